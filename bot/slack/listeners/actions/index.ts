import type { ListenerDeps } from '../types';
import { registerButtons } from './buttons';

export function registerActions(deps: ListenerDeps): void {
  registerButtons(deps);
}
