/**
 * The Node.js flags the service runs with: the Docker image's CMD, `npm start` and the benchmark
 * all use exactly these (test/deploy checks the first two). Measured on the 100k-run export,
 * neither costs measurable speed (BENCHMARKS.md):
 *
 * --max-semi-space-size=8: V8's young generation may otherwise grow to 3 x 16 MiB under an
 *   export's allocation rate; 8 MiB semi-spaces save about 20 MiB of peak RSS.
 * --heap-growing-percent=50: after a full GC V8 lets the old generation grow up to about 4x before
 *   the next one, so promoted garbage piles up and the second export in a process peaked near
 *   200 MiB; 1.5x keeps every export near the first one's peak.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=8', '--heap-growing-percent=50'] as const
