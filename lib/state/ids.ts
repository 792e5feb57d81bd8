/** Container IDs (64 hex digits, as Docker's) and generated names ("adjective_noun"). */

export function newId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const ADJECTIVES = [
  "brave",
  "calm",
  "clever",
  "eager",
  "fervent",
  "gentle",
  "happy",
  "jolly",
  "keen",
  "lucid",
  "merry",
  "nifty",
  "quiet",
  "quirky",
  "serene",
  "sharp",
  "stoic",
  "sweet",
  "tender",
  "vivid",
  "wise",
  "zealous",
  "bold",
  "crisp",
  "dapper",
  "epic",
  "frosty",
  "gallant",
  "hardy",
  "upbeat",
];
const NOUNS = [
  "lovelace",
  "turing",
  "hopper",
  "ritchie",
  "thompson",
  "torvalds",
  "hamilton",
  "knuth",
  "dijkstra",
  "liskov",
  "kernighan",
  "pike",
  "lamport",
  "hoare",
  "backus",
  "mccarthy",
  "allen",
  "goldberg",
  "perlman",
  "shannon",
  "babbage",
  "noether",
  "curie",
  "darwin",
  "euler",
  "gauss",
  "hypatia",
  "kepler",
  "newton",
  "tesla",
];

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** A generated name, avoiding `taken`; a numeric suffix when the pairs run out. */
export function newName(taken: ReadonlySet<string>): string {
  for (let attempt = 0;; attempt++) {
    const pick = <T>(list: readonly T[]) => list[Math.floor(Math.random() * list.length)];
    const name = `${pick(ADJECTIVES)}_${pick(NOUNS)}${attempt < 20 ? "" : attempt}`;
    if (!taken.has(name)) return name;
  }
}

/** Docker's rule for --name. */
export function isValidName(name: string): boolean {
  return NAME.test(name);
}
