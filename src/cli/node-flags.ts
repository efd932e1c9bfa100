// V8 flags the sluice server runs with. main.ts's shebang carries the same list (a shebang cannot
// import); test/cli/node-flags.test.ts keeps the two in step, and the benchmark starts its server
// process with these so that it measures what production runs.
//
// --max-semi-space-size=8: V8's young generation is, with a 16 MiB store, the largest share of
// the server's resident memory under a backlog; 8 MiB semi-spaces keep peak RSS under 150 MB at
// the same CPU (measured on workloads A and B, docs/benchmarks.md).
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];
