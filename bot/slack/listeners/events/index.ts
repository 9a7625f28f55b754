import type { ListenerDeps } from '../types';
import { registerAppHomeOpened } from './appHomeOpened';
import { registerMemberJoinedChannel } from './memberJoinedChannel';

export function registerEvents(deps: ListenerDeps): void {
  registerAppHomeOpened(deps);
  registerMemberJoinedChannel(deps);
}
