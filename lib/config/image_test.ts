import { deepEqual, throws } from "node:assert/strict";
import { imageCommand, imageDefaults } from "./image.ts";

const image = {
  Entrypoint: ["/entry"],
  Cmd: ["serve", "--port", "80"],
  Env: ["PATH=/opt/bin:/bin", "MODE=prod"],
  WorkingDir: "/srv",
  User: "1000:1000",
  ExposedPorts: { "80/tcp": {}, "53/udp": {}, "8080": {} },
};

Deno.test("image config: entrypoint, cmd and the user's command", () => {
  deepEqual(imageCommand(image, [], undefined), ["/entry", "serve", "--port", "80"]);
  deepEqual(imageCommand(image, ["version"], undefined), ["/entry", "version"]);
  deepEqual(imageCommand(image, ["ls"], "/bin/sh"), ["/bin/sh", "ls"]);
  deepEqual(imageCommand(image, [], "/bin/sh"), ["/bin/sh"]);
  deepEqual(imageCommand(image, ["ls", "-l"], ""), ["ls", "-l"]);
  deepEqual(imageCommand({ Cmd: ["sh"] }, [], undefined), ["sh"]);
  throws(() => imageCommand({}, [], undefined), /no command specified/);
  throws(() => imageCommand(image, [], ""), /no command specified/);
});

Deno.test("image config: env, working directory, user and ports under the options", () => {
  deepEqual(imageDefaults(image, { command: [] }), {
    command: ["/entry", "serve", "--port", "80"],
    env: ["PATH=/opt/bin:/bin", "MODE=prod"],
    workdir: "/srv",
    user: "1000:1000",
    exposedPorts: ["53/udp", "80/tcp", "8080/tcp"],
  });
  const mine = imageDefaults(image, { command: ["id"], workdir: "/tmp", user: "0" });
  deepEqual([mine.workdir, mine.user], ["/tmp", "0"]);
  deepEqual(imageDefaults({ WorkingDir: "", User: "" }, { command: ["x"] }).workdir, undefined);
});
