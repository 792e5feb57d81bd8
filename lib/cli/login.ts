/** `husk login`: credentials checked against a registry, then kept for pulls. */
import { InvalidInputError } from "../errors.ts";
import { saveCredentials } from "../image/auth.ts";
import { DEFAULT_DOMAIN } from "../image/reference.ts";
import { RegistryClient } from "../image/registry.ts";
import type { CommandModule } from "./command.ts";

export const login: CommandModule = {
  usage: "husk login [OPTIONS] [SERVER]",
  summary: "Log in to a registry (credentials are kept in the state root, readable by root only).",
  flags: [
    { name: "username", short: "u", value: "USER", help: "user name" },
    { name: "password", short: "p", value: "PASSWORD", help: "password (prefer --password-stdin)" },
    { name: "password-stdin", help: "read the password from stdin" },
    { name: "insecure", help: "plain HTTP, for a registry on this machine" },
  ],
  interspersed: true,
  main: async (paths, values, rest) => {
    const domain = rest[0] ?? DEFAULT_DOMAIN;
    const username = values.username as string | undefined;
    let password = values.password as string | undefined;
    if (values["password-stdin"]) {
      password = (await new Response(Deno.stdin.readable).text()).replace(/\n$/, "");
    }
    if (!username || password === undefined) {
      throw new InvalidInputError("husk login needs --username and --password or --password-stdin");
    }
    const credentials = { username, password };
    await new RegistryClient(domain, { insecure: values.insecure === true, credentials }).ping();
    saveCredentials(paths, domain, credentials);
    console.log("Login Succeeded");
    return 0;
  },
};
