/** Shared with the bench's fetch-decode micro-benchmark: see src/bench/kafkajs-original.ts. */
export { kafkajsOriginal } from '../../src/bench/kafkajs-original.js';
