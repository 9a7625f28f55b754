import type { ListenerDeps } from '../types';
import { registerAppHomeOpened } from './appHomeOpened';

export function registerEvents(deps: ListenerDeps): void {
  registerAppHomeOpened(deps);
}
