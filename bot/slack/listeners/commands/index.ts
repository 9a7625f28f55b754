import type { ListenerDeps } from '../types';
import { registerCockpitCommand } from './cockpit';

export function registerCommands(deps: ListenerDeps): void {
  registerCockpitCommand(deps);
}
