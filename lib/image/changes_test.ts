import { deepEqual, throws } from "node:assert/strict";
import { applyChanges } from "./changes.ts";

Deno.test("import --change: Dockerfile instructions to a run config", () => {
  deepEqual(
    applyChanges([
      'CMD ["serve", "-v"]',
      "ENTRYPOINT /entry.sh",
      "ENV A=1",
      "ENV B two words",
      "WORKDIR /srv",
      "USER nobody",
      "EXPOSE 80 53/udp",
    ]),
    {
      Cmd: ["serve", "-v"],
      Entrypoint: ["/bin/sh", "-c", "/entry.sh"],
      Env: ["A=1", "B=two words"],
      WorkingDir: "/srv",
      User: "nobody",
      ExposedPorts: { "80/tcp": {}, "53/udp": {} },
    },
  );
  throws(() => applyChanges(["RUN make"]), /unsupported --change "RUN make"/);
  throws(() => applyChanges(['CMD ["a", 1]']), /expected a JSON array of strings/);
});
