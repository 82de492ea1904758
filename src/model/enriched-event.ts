/** A record of `events_stages` (schemas/events_stages/v1.avsc). */
export interface EnrichedEvent {
  readonly time: string;
  readonly user_id: number;
  readonly user_name: string;
  readonly dept_name: string;
  readonly gender: string;
  readonly age: number;
  readonly hello: string;
  readonly id: number;
}
