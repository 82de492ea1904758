import { referenceFormatEventTime, referenceInstantOfWall, referenceZoneOffset } from './event-time-reference.js';
import { daysFromCivil, DAY_MS, formatWallClock, HOUR_MS, MIN_YEAR, MINUTE_MS } from './wall-clock.js';

/** One hour's offsets: a number when the whole hour has it, else one per minute (NaN: it changes inside). */
type HourOffsets = number | Float64Array;

/** Hours remembered per cache; past this the cache starts again (garbage times must not grow memory). */
const MAX_HOURS = 8_192;

/**
 * A piecewise-constant offset function of a time in whole seconds (`exact`, slow: Intl), cached per
 * hour. An hour is built from 61 samples of `exact`, at each whole minute and the next hour's start:
 * all equal → one offset for the hour; otherwise per minute, a minute whose two ends disagree being
 * left to `exact`. This assumes the offset never changes twice within 60 s — DST and standard-time
 * transitions are whole minutes apart by months, and local-mean-time ones (seconds) are single.
 * An hour is only built once it was asked for more than `promoteAfter` times: scattered times (an
 * HTTP batch over many years) then cost what `exact` costs, not 61 times that.
 */
class HourlyOffsets {
  private readonly hours = new Map<number, HourOffsets>();
  private readonly misses = new Map<number, number>();
  private lastHour = Number.NaN;
  private lastOffset = 0;

  constructor(
    private readonly exact: (time: number) => number,
    private readonly promoteAfter: number,
  ) {}

  /** The offset at `time` (whole seconds), or undefined: then `exact` must answer. */
  at(time: number): number | undefined {
    const hour = Math.floor(time / HOUR_MS);
    if (hour === this.lastHour) return this.lastOffset;
    const offsets = this.hours.get(hour) ?? this.promote(hour);
    if (offsets === undefined) return undefined;
    if (typeof offsets === 'number') {
      this.lastHour = hour;
      this.lastOffset = offsets;
      return offsets;
    }
    const offset = offsets[Math.floor((time - hour * HOUR_MS) / MINUTE_MS)] ?? Number.NaN;
    return Number.isNaN(offset) ? undefined : offset;
  }

  private promote(hour: number): HourOffsets | undefined {
    const asked = (this.misses.get(hour) ?? 0) + 1;
    if (asked <= this.promoteAfter) {
      if (this.misses.size >= MAX_HOURS) this.misses.clear();
      this.misses.set(hour, asked);
      return undefined;
    }
    this.misses.delete(hour);
    const offsets = this.build(hour * HOUR_MS);
    if (this.hours.size >= MAX_HOURS) this.hours.clear();
    this.hours.set(hour, offsets);
    return offsets;
  }

  private build(start: number): HourOffsets {
    const samples = Array.from({ length: 61 }, (_, minute) => this.exact(start + minute * MINUTE_MS));
    const first = samples[0] ?? Number.NaN;
    if (samples.every((sample) => sample === first)) return first;
    const minutes = new Float64Array(60);
    for (let minute = 0; minute < 60; minute += 1) {
      const offset = samples[minute] ?? Number.NaN;
      const uniform = offset === samples[minute + 1] || offset === this.exact(start + minute * MINUTE_MS + 59_000);
      minutes[minute] = uniform ? offset : Number.NaN;
    }
    return minutes;
  }
}

/** Wall times with four-digit years: what formatWallClock writes and wallClockMillis reads. */
const MIN_WALL = daysFromCivil(MIN_YEAR, 1, 1) * DAY_MS;
const MAX_WALL = daysFromCivil(10_000, 1, 1) * DAY_MS;

/**
 * Event times of one IANA zone, fast: the same results as event-time-reference.ts (which answers
 * whatever the caches cannot), at the cost of a division and a map lookup once the hour is known.
 * Parsing caches, per wall-clock hour, the offset the reference chooses (so DST gaps and overlaps
 * come out as the reference decides them); formatting caches the zone's UTC offset per UTC hour.
 */
export class ZoneClock {
  private readonly wallHours: HourlyOffsets;
  private readonly utcHours: HourlyOffsets;
  /** The last second formatted: a generator writes thousands of events per second. */
  private lastSecond = Number.NaN;
  private lastText = '';

  constructor(
    readonly zone: string,
    { promoteAfter = 32 }: { readonly promoteAfter?: number } = {},
  ) {
    this.wallHours = new HourlyOffsets((wall) => wall - referenceInstantOfWall(wall, zone), promoteAfter);
    this.utcHours = new HourlyOffsets((instant) => referenceZoneOffset(instant, zone), promoteAfter);
  }

  /** The instant (epoch ms) at which the zone's clocks show `wall` (wall-clock.ts's wall milliseconds). */
  instantOf(wall: number): number {
    const offset = this.wallHours.at(wall);
    return offset === undefined ? referenceInstantOfWall(wall, this.zone) : wall - offset;
  }

  /** `YYYY-MM-DD HH:mm:ss` of the second containing `instant`, in the zone. */
  format(instant: number): string {
    const second = Math.floor(instant / 1_000) * 1_000;
    if (second === this.lastSecond) return this.lastText;
    if (!(second >= MIN_WALL - DAY_MS && second < MAX_WALL + DAY_MS))
      return referenceFormatEventTime(instant, this.zone);
    const offset = this.utcHours.at(second);
    const wall = offset === undefined ? Number.NaN : second + offset;
    if (!(wall >= MIN_WALL && wall < MAX_WALL)) return referenceFormatEventTime(instant, this.zone);
    this.lastSecond = second;
    this.lastText = formatWallClock(wall);
    return this.lastText;
  }
}
