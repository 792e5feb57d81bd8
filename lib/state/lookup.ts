/** Finding a container by what a user types: a name, a full ID or a unique ID prefix (Docker's rules). */
import { StateError } from "../errors.ts";

export interface Named {
  id: string;
  name: string;
}

/** The container `ref` designates among `all`; an unknown or ambiguous reference is a StateError. */
export function lookup<T extends Named>(all: readonly T[], ref: string): T {
  const byName = all.find((c) => c.name === ref || `/${c.name}` === ref);
  if (byName) return byName;
  const byId = all.find((c) => c.id === ref);
  if (byId) return byId;
  if (/^[0-9a-f]+$/.test(ref)) {
    const matches = all.filter((c) => c.id.startsWith(ref));
    if (matches.length === 1) return matches[0];
    if (matches.length > 1) {
      const ids = matches.map((c) => c.id.slice(0, 12)).join(", ");
      throw new StateError(`multiple containers match the prefix "${ref}": ${ids}; give more digits`);
    }
  }
  throw new StateError(`no such container: ${ref}`);
}
