/**
 * Micro-benchmark of event-time parsing and formatting, the reference (Intl on every call) against
 * the fast implementation the stages use, outside Kafka:
 *
 *   npx tsx src/bench/event-time-bench.ts [--count 300000] [--zone Asia/Seoul] [--spacing 37]
 *                                         [--start '2026-11-22 20:00:00']
 *                                         [--only reference|fast] [--rounds 5]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx src/bench/event-time-bench.ts --only fast
 *
 * The times are those of a replay: `count` events `spacing` ms apart (37: about three hours of wall
 * clock from `start` in the zone, 27 events per second), formatted once up front. Prints
 * µs per event of the first round (caches cold, JIT warming up) and of the best of `rounds` (the
 * reference: one round); figures are indicative only on a shared machine. Exits 1 if the two
 * implementations disagree on any of the times.
 */
import { parseArgs } from 'node:util';
import { formatEventTime, parseEventTime } from '../shared/event-time.js';
import { referenceFormatEventTime, referenceParseEventTime } from '../shared/event-time-reference.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '300000' },
    zone: { type: 'string', default: 'Asia/Seoul' },
    only: { type: 'string' },
    rounds: { type: 'string', default: '5' },
    spacing: { type: 'string', default: '37' },
    start: { type: 'string', default: '2026-11-22 20:00:00' },
  },
});
const count = Number(values.count);
const zone = values.zone;
const only = values.only;
const spacing = Number(values.spacing);

const start = referenceParseEventTime(values.start, zone) ?? 0;
const instants = Array.from({ length: count }, (_, index) => Math.floor((start + index * spacing) / 1_000) * 1_000);
// Through a Buffer, as Avro decodes them: flat strings (the formatter's are concatenations).
const texts = instants.map((instant) => Buffer.from(referenceFormatEventTime(instant, zone)).toString());

/**
 * Runs `step` over every index `rounds` times and prints µs per event of the first and the best
 * round, as wall time and as CPU time of the process (others' load on a shared machine shows in the
 * first). `step` returns a number, summed, so that nothing is kept and nothing is optimised away.
 */
function timed(label: string, rounds: number, step: (index: number) => number): void {
  const figures: string[] = [];
  let [bestWall, bestCpu, checksum] = [Infinity, Infinity, 0];
  for (let round = 0; round < rounds; round += 1) {
    const [wall, cpu] = [process.hrtime.bigint(), process.cpuUsage()];
    for (let index = 0; index < count; index += 1) checksum += step(index);
    const used = process.cpuUsage(cpu);
    const [wallMicros, cpuMicros] = [
      Number(process.hrtime.bigint() - wall) / 1_000 / count,
      (used.user + used.system) / count,
    ];
    if (round === 0) figures.push(`first ${wallMicros.toFixed(3)} wall ${cpuMicros.toFixed(3)} CPU`);
    [bestWall, bestCpu] = [Math.min(bestWall, wallMicros), Math.min(bestCpu, cpuMicros)];
  }
  if (rounds > 1) figures.push(`best of ${rounds} ${bestWall.toFixed(3)} wall ${bestCpu.toFixed(3)} CPU`);
  process.stdout.write(`${label.padEnd(16)} µs/event: ${figures.join(', ')}  (checksum ${checksum % 1_000_000})\n`);
}

const implementations = {
  reference: { parse: referenceParseEventTime, format: referenceFormatEventTime, rounds: 1 },
  fast: { parse: parseEventTime, format: formatEventTime, rounds: Number(values.rounds) },
} as const;

process.stdout.write(`${count} event times in ${zone} from ${values.start}, ${spacing} ms apart\n`);
for (const [name, implementation] of Object.entries(implementations)) {
  if (only !== undefined && only !== name) continue;
  const { parse, format, rounds } = implementation;
  timed(`parse ${name}`, rounds, (index) => parse(texts[index] ?? '', zone) ?? 0);
  timed(`format ${name}`, rounds, (index) => format(instants[index] ?? 0, zone).charCodeAt(18));
}

if (only === undefined) {
  let differ = 0;
  for (let index = 0; index < count; index += 1) {
    const [text, instant] = [texts[index] ?? '', instants[index] ?? 0];
    if (referenceParseEventTime(text, zone) !== parseEventTime(text, zone)) differ += 1;
    if (referenceFormatEventTime(instant, zone) !== formatEventTime(instant, zone)) differ += 1;
  }
  process.stdout.write(`disagreements with the reference: ${differ}\n`);
  if (differ > 0) process.exitCode = 1;
}
