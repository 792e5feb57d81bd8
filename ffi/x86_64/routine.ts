/**
 * The machine code of spawn.S, assembled with GNU as (`as --64`, then `objcopy -O binary -j .text`).
 * routine_test.ts re-assembles the source and checks that these bytes are its output.
 */
export const SPAWN_ROUTINE_X86_64 =
  "48 89 f8 48 89 f7 48 89 d6 48 89 ca 4d 89 c2 4d 89 c8 0f 05 c3 cc cc cc cc cc cc cc cc cc cc cc 53 48 83 ec 20 48 89 fb 48 c7 04 24 ff ff ff ff b8 0e 00 00 00 bf 02 00 00 00 48 89 e6 48 8d 54 24 08 41 ba 08 00 00 00 0f 05 b8 38 00 00 00 48 8b 3b 48 8b 73 20 31 d2 45 31 d2 45 31 c0 0f 05 48 85 c0 74 29 48 89 44 24 10 b8 0e 00 00 00 bf 02 00 00 00 48 8d 74 24 08 31 d2 41 ba 08 00 00 00 0f 05 48 8b 44 24 10 48 83 c4 20 5b c3 4c 8b 63 08 4c 8b 6b 10 45 31 f6 4d 39 ee 0f 83 b4 00 00 00 49 8b 04 24 49 8b 7c 24 08 41 f6 44 24 38 04 49 0f 45 ff 41 f6 44 24 38 20 74 03 48 63 3f 49 8b 74 24 10 41 f6 44 24 38 10 74 03 4c 89 3e 49 8b 54 24 18 4d 8b 54 24 20 4d 8b 44 24 28 4d 8b 4c 24 30 0f 05 48 85 c0 78 3f 75 0a 41 f6 44 24 38 01 75 3f eb 1d 41 f6 44 24 38 08 74 15 49 89 c7 45 8b 74 24 3c 4d 89 f4 49 c1 e4 06 4c 03 63 08 eb 85 41 f6 44 24 38 02 4c 0f 45 f8 49 83 c4 40 49 ff c6 e9 6f ff ff ff 48 f7 d8 41 3b 44 24 3c 74 e0 44 89 34 24 89 44 24 04 b8 01 00 00 00 48 8b 7b 18 48 89 e6 ba 08 00 00 00 0f 05 bf 7f 00 00 00 eb 02 31 ff b8 e7 00 00 00 0f 05 cc 53 41 54 41 55 41 56 48 89 fb 49 89 f4 45 31 ed 45 31 f6 4d 39 e5 73 3e 48 8b 03 48 8b 7b 08 f6 43 38 04 49 0f 45 fe 48 8b 73 10 48 8b 53 18 4c 8b 53 20 4c 8b 43 28 0f 05 48 89 43 30 48 3d 01 f0 ff ff 73 11 f6 43 38 02 4c 0f 45 f0 48 83 c3 40 49 ff c5 eb bd 4c 89 e8 41 5e 41 5d 41 5c 5b c3";

/** Offsets of the three entry points in those bytes (see the symbols of spawn.S). */
export const RAW_SYSCALL_OFFSET = 0;
export const SPAWN_OFFSET = 32;
export const RUN_STEPS_OFFSET = 352;
