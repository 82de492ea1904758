import { describe, expect, it } from 'vitest';
import { javaCommand, parseJavaMajor } from './java.js';

describe('parseJavaMajor', () => {
  it.each([
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['openjdk version "21" 2023-09-19', 21],
    ['java version "1.8.0_392"', 8],
    ['openjdk version "11.0.2" 2019-01-15', 11],
    ['openjdk version "25-ea" 2025-09-16', 25],
  ])('%s → %i', (output, major) => {
    expect(parseJavaMajor(output)).toBe(major);
  });

  it('is undefined for output that names no version', () => {
    expect(parseJavaMajor('command not found')).toBeUndefined();
  });
});

describe('javaCommand', () => {
  it('uses JAVA_HOME when set, PATH otherwise', () => {
    expect(javaCommand({ JAVA_HOME: '/opt/jdk' })).toBe('/opt/jdk/bin/java');
    expect(javaCommand({ JAVA_HOME: '' })).toBe('java');
    expect(javaCommand({})).toBe('java');
  });
});
