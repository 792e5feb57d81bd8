/** -u/--user: a numeric uid with an optional numeric gid. */
import { InvalidInputError } from "../errors.ts";
import type { User } from "./types.ts";

const ID = /^\d{1,10}$/;
const MAX_ID = 0xfffffffe;

export function parseUser(spec: string | undefined): User {
  if (spec === undefined) return { uid: 0, gid: 0, additionalGids: [] };
  const [uidText, gidText, ...rest] = spec.split(":");
  const bad = (why: string) =>
    new InvalidInputError(`invalid user "${spec}": ${why} (use a numeric uid[:gid], e.g. -u 1000:1000)`);
  if (rest.length > 0) throw bad("too many colons");
  if (!ID.test(uidText)) throw bad(`uid "${uidText}" is not a number; user names are not supported yet`);
  if (gidText !== undefined && !ID.test(gidText)) throw bad(`gid "${gidText}" is not a number`);
  // Without a passwd entry to consult, Docker runs a bare uid with gid 0.
  const uid = Number(uidText), gid = gidText === undefined ? 0 : Number(gidText);
  if (uid > MAX_ID || gid > MAX_ID) throw bad("id out of range");
  return { uid, gid, additionalGids: [] };
}
