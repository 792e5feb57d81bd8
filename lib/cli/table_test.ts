import { equal, ok } from "node:assert/strict";
import { commandColumn, humanDuration, humanSize, renderTable } from "./table.ts";

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const DAY = 24 * H;

Deno.test("humanDuration: under a second", () => {
  equal(humanDuration(0), "Less than a second");
  equal(humanDuration(1), "Less than a second");
  equal(humanDuration(400), "Less than a second");
});

Deno.test("humanDuration: seconds", () => {
  equal(humanDuration(1 * S), "1 second");
  equal(humanDuration(2 * S), "2 seconds");
  equal(humanDuration(30 * S), "30 seconds");
  equal(humanDuration(59 * S), "59 seconds");
});

Deno.test("humanDuration: minutes", () => {
  equal(humanDuration(60 * S), "About a minute");
  equal(humanDuration(2 * MIN), "2 minutes");
  equal(humanDuration(45 * MIN), "45 minutes");
  equal(humanDuration(59 * MIN), "59 minutes");
});

Deno.test("humanDuration: hours (rounded to the nearest hour, as go-units does)", () => {
  equal(humanDuration(60 * MIN), "About an hour");
  equal(humanDuration(89 * MIN), "About an hour"); // 1.48 h rounds to 1
  equal(humanDuration(91 * MIN), "2 hours"); // 1.52 h rounds to 2
  equal(humanDuration(2 * H), "2 hours");
  equal(humanDuration(47 * H), "47 hours");
});

Deno.test("humanDuration: days, weeks, months, years", () => {
  equal(humanDuration(48 * H), "2 days");
  equal(humanDuration(13 * DAY), "13 days");
  equal(humanDuration(14 * DAY), "2 weeks");
  equal(humanDuration(59 * DAY), "8 weeks");
  equal(humanDuration(60 * DAY), "2 months");
  equal(humanDuration(400 * DAY), "13 months");
  equal(humanDuration(729 * DAY), "24 months");
  equal(humanDuration(730 * DAY), "2 years");
  equal(humanDuration(5 * 365 * DAY), "5 years");
  equal(humanDuration(1000 * DAY), "2 years"); // 2.74 years: whole years, not rounded
});

// go-units truncates seconds (int(d.Seconds())) and minutes (int(d.Minutes())); only hours are rounded.
// `docker ps` therefore shows "Less than a second" at 0.9 s, "1 second" at 1.5 s, "About a minute" up to
// 119 s and "59 minutes" at 59m59s.
Deno.test("humanDuration: seconds and minutes are truncated, not rounded (go-units)", () => {
  equal(humanDuration(900), "Less than a second");
  equal(humanDuration(1500), "1 second");
  equal(humanDuration(59_600), "59 seconds");
  equal(humanDuration(90 * S), "About a minute");
  equal(humanDuration(119 * S), "About a minute");
  equal(humanDuration(150 * S), "2 minutes");
  equal(humanDuration(59 * MIN + 59 * S), "59 minutes");
});

Deno.test("commandColumn: a short command is quoted whole", () => {
  equal(commandColumn(["/bin/sh"], false), `"/bin/sh"`);
  equal(commandColumn(["sleep", "10"], false), `"sleep 10"`);
  equal(commandColumn([], false), `""`);
});

Deno.test("commandColumn: exactly 20 characters is not cut", () => {
  const args = ["echo", "abcdefghijklmno"]; // 4 + 1 + 15 = 20
  equal(args.join(" ").length, 20);
  equal(commandColumn(args, false), `"echo abcdefghijklmno"`);
});

Deno.test("commandColumn: a longer command is cut to 20 characters ending in an ellipsis", () => {
  const out = commandColumn(["sh", "-c", "while true; do echo hi; sleep 1; done"], false);
  equal(out, `"sh -c while true; d…"`);
  const inner = JSON.parse(out) as string;
  equal(inner.length, 20);
  ok(inner.endsWith("…"));
  equal(commandColumn(["echo", "abcdefghijklmnop"], false), `"echo abcdefghijklmn…"`);
});

Deno.test("commandColumn: full shows the whole command", () => {
  const args = ["sh", "-c", "while true; do echo hi; sleep 1; done"];
  equal(commandColumn(args, true), `"sh -c while true; do echo hi; sleep 1; done"`);
});

Deno.test("commandColumn: quotes inside the command are escaped", () => {
  equal(commandColumn(["echo", `"hi"`], true), `"echo \\"hi\\""`);
});

Deno.test("renderTable: columns are as wide as their widest cell plus three spaces", () => {
  const out = renderTable(["ID", "NAME", "STATUS"], [
    ["abc", "x", "Up 2 seconds"],
    ["d", "longer_name", "Created"],
  ]);
  equal(
    out,
    [
      "ID    NAME          STATUS",
      "abc   x             Up 2 seconds",
      "d     longer_name   Created",
    ].join("\n"),
  );
});

Deno.test("renderTable: no line ends with a space, also when the last cells are empty", () => {
  const out = renderTable(["A", "PORTS", "NAMES"], [["1", "", ""], ["2", "", "n"]]);
  for (const line of out.split("\n")) ok(!line.endsWith(" "), `trailing space in ${JSON.stringify(line)}`);
  equal(out, ["A   PORTS   NAMES", "1", "2           n"].join("\n"));
});

Deno.test("renderTable: a header alone", () => {
  equal(renderTable(["CONTAINER ID", "IMAGE"], []), "CONTAINER ID   IMAGE");
});

Deno.test("renderTable: no trailing newline, one line per row", () => {
  const out = renderTable(["A", "B"], [["1", "2"], ["3", "4"], ["5", "6"]]);
  ok(!out.endsWith("\n"));
  equal(out.split("\n").length, 4);
});

Deno.test("humanSize: Docker's decimal units, three significant digits", () => {
  equal(humanSize(0), "0B");
  equal(humanSize(512), "512B");
  equal(humanSize(2_139_136), "2.14MB");
  equal(humanSize(7_800_000), "7.8MB");
  equal(humanSize(1_000_000_000), "1GB");
});
