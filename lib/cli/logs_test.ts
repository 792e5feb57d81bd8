import { equal } from "node:assert/strict";
import { throwsInvalid } from "../testing/errors.ts";
import { parseSince } from "./logs.ts";

const NOW = new Date("2024-05-06T12:00:00.000Z");
const since = (text: string) => parseSince(text, NOW).toISOString();

/** parseSince refuses `text`, naming it. */
function refused(text: string): void {
  throwsInvalid(() => parseSince(text, NOW), `"${text}"`);
}

Deno.test("parseSince: a duration is that long before now", () => {
  equal(since("10s"), "2024-05-06T11:59:50.000Z");
  equal(since("5m"), "2024-05-06T11:55:00.000Z");
  equal(since("2h"), "2024-05-06T10:00:00.000Z");
  equal(since("500ms"), "2024-05-06T11:59:59.500Z");
  equal(since("1.5h"), "2024-05-06T10:30:00.000Z");
  equal(since("0s"), "2024-05-06T12:00:00.000Z");
});

Deno.test("parseSince: a duration depends on the given now", () => {
  const later = new Date(NOW.getTime() + 60_000);
  equal(parseSince("1m", later).toISOString(), NOW.toISOString());
});

Deno.test("parseSince: a number is a Unix time in seconds", () => {
  equal(since("1700000000"), "2023-11-14T22:13:20.000Z");
  equal(since("1700000000.25"), "2023-11-14T22:13:20.250Z");
  equal(since("0"), "1970-01-01T00:00:00.000Z");
});

Deno.test("parseSince: an RFC 3339 time", () => {
  equal(since("2024-01-02T03:04:05Z"), "2024-01-02T03:04:05.000Z");
  equal(since("2024-01-02T03:04:05.123Z"), "2024-01-02T03:04:05.123Z");
  equal(since("2024-01-02T03:04:05+02:00"), "2024-01-02T01:04:05.000Z");
  equal(since("2024-01-02T03:04:05-05:30"), "2024-01-02T08:34:05.000Z");
});

Deno.test("parseSince: bad input", () => {
  for (const text of ["", "yesterday", "10x", "-5m", "5 m", "m", "10 minutes", "2024-13-45", "1e3s"]) {
    refused(text);
  }
});

// Date.parse's legacy fallback turns free text with a number in it into a date in 2001 (V8): "last 5" is
// 2001-05-01, "week 2" 2001-02-01, "1.5.5" 2005-01-05. Such input must be refused, not read as a date.
Deno.test("parseSince: free text is refused, not read as a date by Date.parse's fallback", () => {
  for (const text of ["last 5", "week 2", "1.5.5"]) refused(text);
});
