import type { ListenerDeps } from '../types';
import { registerDeclareIncident } from './declareIncident';

export function registerViews(deps: ListenerDeps): void {
  registerDeclareIncident(deps);
}
