import { deepEqual, equal } from "node:assert/strict";

import { parseMountOptions } from "../spawn/mount_options.ts";
import { MS } from "../spawn/linux.ts";
import { normalize, parseTmpfs, parseVolume } from "./volume.ts";
import { throwsInvalid } from "../testing/errors.ts";

Deno.test("parseVolume: /host:/container is a read-write recursive bind", () => {
  deepEqual(parseVolume("/srv/data:/data"), {
    destination: "/data",
    type: "bind",
    source: "/srv/data",
    options: ["rbind", "rw"],
  });
});

Deno.test("parseVolume: the ro and rw modes", () => {
  deepEqual(parseVolume("/a:/b:ro").options, ["rbind", "ro"]);
  deepEqual(parseVolume("/a:/b:rw").options, ["rbind", "rw"]);
});

Deno.test("parseVolume: both paths are normalized", () => {
  const m = parseVolume("/srv//x/../data/:/mnt/./data/");
  equal(m.source, "/srv/data");
  equal(m.destination, "/mnt/data");
});

Deno.test("parseVolume: a relative host path (a named volume) is rejected", () => {
  throwsInvalid(() => parseVolume("data:/data"), `"data"`, "absolute");
  throwsInvalid(() => parseVolume("./data:/data"), `"./data"`);
});

Deno.test("parseVolume: a relative container path is rejected", () => {
  throwsInvalid(() => parseVolume("/data:data"), `"data"`, "absolute");
});

Deno.test("parseVolume: an unknown mode is rejected", () => {
  throwsInvalid(() => parseVolume("/a:/b:rx"), `"rx"`);
  throwsInvalid(() => parseVolume("/a:/b:RO"), `"RO"`);
});

Deno.test("parseVolume: a missing container path, empty parts or too many colons are rejected", () => {
  throwsInvalid(() => parseVolume("/a"), `"/a"`);
  throwsInvalid(() => parseVolume("/a:/b:ro:z"), `"/a:/b:ro:z"`);
  throwsInvalid(() => parseVolume("/a::ro"), `"/a::ro"`);
  throwsInvalid(() => parseVolume("/a:/b:"), `"/a:/b:"`);
  throwsInvalid(() => parseVolume(":/b"), `":/b"`);
  throwsInvalid(() => parseVolume(""));
});

Deno.test("normalize: removes '.', '..' and repeated or trailing slashes", () => {
  equal(normalize("/"), "/");
  equal(normalize("//a///b/"), "/a/b");
  equal(normalize("/a/./b/."), "/a/b");
  equal(normalize("/a/b/../c"), "/a/c");
  equal(normalize("/a/b/../../.."), "/");
  equal(normalize("/.."), "/");
  equal(normalize("/../../etc"), "/etc");
});

Deno.test("parseTmpfs: Docker's defaults", () => {
  deepEqual(parseTmpfs("/run"), {
    destination: "/run",
    type: "tmpfs",
    source: "tmpfs",
    options: ["noexec", "nosuid", "nodev", "size=65536k"],
  });
  deepEqual(parseTmpfs("/run:").options, ["noexec", "nosuid", "nodev", "size=65536k"]);
});

Deno.test("parseTmpfs: exec drops noexec and a size replaces the default size", () => {
  deepEqual(parseTmpfs("/x:exec,size=1m").options, ["nosuid", "nodev", "exec", "size=1m"]);
});

Deno.test("parseTmpfs: other options are appended", () => {
  deepEqual(parseTmpfs("/x:mode=1777,,uid=1000").options, [
    "noexec",
    "nosuid",
    "nodev",
    "size=65536k",
    "mode=1777",
    "uid=1000",
  ]);
});

Deno.test("parseTmpfs: a repeated option keeps only the last value", () => {
  deepEqual(parseTmpfs("/x:size=1m,size=2m").options, ["noexec", "nosuid", "nodev", "size=2m"]);
});

Deno.test("parseTmpfs: overriding options turn into the right mount flags", () => {
  const flagsOf = (spec: string) => parseMountOptions(parseTmpfs(spec).options).flags;
  equal(flagsOf("/x"), MS.NOEXEC | MS.NOSUID | MS.NODEV);
  equal(flagsOf("/x:exec"), MS.NOSUID | MS.NODEV);
  equal(flagsOf("/x:dev,suid"), MS.NOEXEC);
  equal(flagsOf("/x:ro"), MS.NOEXEC | MS.NOSUID | MS.NODEV | MS.RDONLY);
  equal(parseMountOptions(parseTmpfs("/x:exec,size=1m").options).data, "size=1m");
});

Deno.test("parseTmpfs: the destination is normalized", () => {
  equal(parseTmpfs("/a//b/../c/").destination, "/a/c");
});

Deno.test("parseTmpfs: a relative container path is rejected", () => {
  throwsInvalid(() => parseTmpfs("tmp"), `"tmp"`, "absolute");
  throwsInvalid(() => parseTmpfs("tmp:size=1m"), `"tmp:size=1m"`);
  throwsInvalid(() => parseTmpfs(""));
});
