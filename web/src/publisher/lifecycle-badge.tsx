import { stateClass } from "./model";

export function LifecycleBadge({ state }: { state: string }) {
  return <span class={stateClass(state)}>{state}</span>;
}
