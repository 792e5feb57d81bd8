/**
 * -u/--user and an image's USER: `user[:group]`, each a number or a name looked up in the root
 * filesystem's /etc/passwd and /etc/group, by Docker's rules (a user found in passwd brings its primary
 * group and its supplementary groups; a bare unknown uid runs with gid 0). Pure: the files come as text.
 */
import { InvalidInputError } from "../errors.ts";
import type { User } from "./types.ts";

const ID = /^\d{1,10}$/;
const MAX_ID = 0xfffffffe;

/** The root filesystem's account files (null when absent). */
export interface AccountFiles {
  passwd: string | null;
  group: string | null;
}

const NO_FILES: AccountFiles = { passwd: null, group: null };

/** The colon-separated lines of an account file, comments and blank lines left out. */
function records(text: string | null): string[][] {
  return (text ?? "").split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#")).map((l) =>
    l.split(":")
  );
}

export function parseUser(spec: string | undefined, files: AccountFiles = NO_FILES): User {
  if (spec === undefined) return { uid: 0, gid: 0, additionalGids: [] };
  const [userText, groupText, ...rest] = spec.split(":");
  const bad = (why: string) =>
    new InvalidInputError(
      `invalid user "${spec}": ${why} (use uid[:gid] or names from the image's /etc/passwd)`,
    );
  if (rest.length > 0) throw bad("too many colons");
  const number = (text: string, what: string) => {
    if (!ID.test(text)) throw bad(`${what} "${text}" is not a number`);
    const n = Number(text);
    if (n > MAX_ID) throw bad("id out of range");
    return n;
  };
  const passwd = records(files.passwd);
  const isName = (text: string) => /^[A-Za-z_][A-Za-z0-9_.-]*\$?$/.test(text);
  const entry = isName(userText)
    ? passwd.find((r) => r[0] === userText)
    : passwd.find((r) => r[2] === userText && ID.test(userText));
  if (isName(userText) && !entry) {
    throw bad(`unable to find user ${userText}: no matching entries in passwd file`);
  }
  const uid = entry ? Number(entry[2]) : number(userText, "uid");
  const groups = records(files.group);
  let gid: number;
  if (groupText === undefined) {
    gid = entry ? Number(entry[3]) : 0;
  } else if (isName(groupText)) {
    const group = groups.find((r) => r[0] === groupText);
    if (!group) throw bad(`unable to find group ${groupText}: no matching entries in group file`);
    gid = Number(group[2]);
  } else {
    gid = number(groupText, "gid");
  }
  const additionalGids = entry
    ? groups.filter((r) => (r[3] ?? "").split(",").includes(entry[0])).map((r) => Number(r[2]))
      .filter((g) => g !== gid)
    : [];
  return { uid, gid, additionalGids };
}
