import { equal } from "node:assert/strict";
import { Sha256, sha256Bytes } from "./sha256.ts";

const hex = (md: Uint8Array) => Array.from(md, (b) => b.toString(16).padStart(2, "0")).join("");
const text = (s: string) => new TextEncoder().encode(s);

Deno.test("sha256: the standard's test vectors, in one piece", () => {
  equal(hex(sha256Bytes(text(""))), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  equal(hex(sha256Bytes(text("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  equal(
    hex(sha256Bytes(text("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
});

Deno.test("sha256: a million a's fed in uneven pieces across the batches handed to worker threads", async () => {
  const hash = new Sha256();
  const million = new Uint8Array(1_000_000).fill(0x61);
  for (let at = 0, size = 1; at < million.length; at += size, size = (size * 7 + 3) % 300_000 + 1) {
    hash.update(million.subarray(at, Math.min(at + size, million.length)));
  }
  equal(hex(await hash.digest()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
});

Deno.test("sha256: a stream of several megabytes equals the one-piece digest; a chunk may be reused", async () => {
  const data = new Uint8Array(5 * 1024 * 1024 + 17);
  for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  const hash = new Sha256();
  const buffer = new Uint8Array(100_000);
  for (let at = 0; at < data.length; at += buffer.length) {
    const piece = data.subarray(at, at + buffer.length);
    buffer.set(piece);
    hash.update(buffer.subarray(0, piece.length));
    buffer.fill(0); // `update` copied it
  }
  equal(hex(await hash.digest()), hex(sha256Bytes(data)));
  const reference = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  equal(hex(sha256Bytes(data)), hex(reference));
});

Deno.test("sha256: an empty stream", async () => {
  equal(hex(await new Sha256().digest()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
});

Deno.test("sha256: chunks taken in place, between copied updates, hash as the whole", async () => {
  const data = new Uint8Array(3 * 1024 * 1024 + 5);
  for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  const hash = new Sha256();
  hash.update(data.subarray(0, 1000));
  const taken = [hash.take(data.subarray(1000, 2_000_000))];
  hash.update(data.subarray(2_000_000, 2_000_100));
  taken.push(hash.take(data.subarray(2_000_100)));
  await Promise.all(taken);
  equal(hex(await hash.digest()), hex(sha256Bytes(data)));
});
