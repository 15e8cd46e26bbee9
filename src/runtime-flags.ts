/**
 * The Node.js flags the service runs with: the Docker image's CMD, `npm start` and the benchmark
 * all use exactly these (test/deploy checks the first two).
 *
 * --max-semi-space-size=8: V8's young generation may otherwise grow to 3 x 16 MiB under an
 * export's allocation rate; 8 MiB semi-spaces cut the 100k-run export's peak RSS by about 20 MiB
 * with no measurable loss of speed (BENCHMARKS.md).
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=8'] as const
