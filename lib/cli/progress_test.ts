import { equal } from "node:assert/strict";
import { progressBar, PullProgress } from "./progress.ts";

Deno.test("progress: a plain line per layer and step when not on a terminal", () => {
  let out = "";
  const p = new PullProgress(false, (t) => out += t);
  p.update({ digest: "aaa", status: "Downloading", done: 10, total: 100 });
  p.update({ digest: "aaa", status: "Downloading", done: 50, total: 100 });
  p.update({ digest: "bbb", status: "Already exists" });
  p.update({ digest: "aaa", status: "Pull complete" });
  equal(out, "aaa: Downloading\nbbb: Already exists\naaa: Pull complete\n");
});

Deno.test("progress: on a terminal, the layers' lines are redrawn in place with a bar", () => {
  let out = "";
  const p = new PullProgress(true, (t) => out += t);
  p.update({ digest: "aaa", status: "Downloading", done: 500_000, total: 1_000_000 });
  p.update({ digest: "bbb", status: "Already exists" });
  equal(
    out,
    "\x1b[2Kaaa: Downloading [====================>                   ] 500kB/1MB\n" +
      "\x1b[1A\x1b[2Kaaa: Downloading [====================>                   ] 500kB/1MB\n\x1b[2Kbbb: Already exists\n",
  );
  equal(progressBar(10, 10, 4), "[====] 10B/10B");
});
