/** husk's command line: `deno run -A main.ts COMMAND ...` (`deno task husk COMMAND ...`). */
import { main } from "./lib/cli/program.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
