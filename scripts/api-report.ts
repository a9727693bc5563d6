// Checks the public surface of each entry point against its committed API report in api/
// (@microsoft/api-extractor). `--local` rewrites the reports instead: commit the diff, and the
// review shows every change of the surface. Run after `npm run build` (it reads dist/*.d.ts).
import { execFileSync } from "node:child_process";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const local = process.argv.includes("--local");
let failed = false;
for (const entry of ["index", "web", "transport", "proto", "testing", "otel"]) {
  const args = ["run", "-c", join(root, "api", `extractor.${entry}.json`)];
  if (local) args.push("--local");
  try {
    execFileSync(join(root, "node_modules/.bin/api-extractor"), args, { stdio: "inherit" });
  } catch {
    failed = true;
  }
}
if (failed) {
  console.error(
    "\nThe public API differs from api/*.api.md: if the change is meant, run `npm run api:update` and commit the reports.",
  );
  process.exit(1);
}
