import { describe, expect, it } from 'vitest';
import { classAdString, configClassAdString } from '../../agent/condor/classad.ts';
import { isAttributeName } from '../../agent/metadata/attribute-names.ts';

describe('classAdString', () => {
  it.each([
    ['t-123', '"t-123"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['C:\\path\\x', '"C:\\\\path\\\\x"'],
    ['two\nlines', '"two\\nlines"'],
    ['tab\there\r', '"tab\\there\\r"'],
    ['bell\u0007', '"bell\\x07"'],
    ['Zürich-タスク', '"Zürich-タスク"'],
    ['', '""'],
  ])('%j → %s', (value, literal) => expect(classAdString(value)).toBe(literal));

  it('never lets a value end the config line', () => {
    for (const value of ['a\nSTART = False', 'a\r\nX = 1', 'a\u2028b']) expect(classAdString(value)).not.toMatch(/[\n\r]/);
  });
});

describe('isAttributeName', () => {
  it.each(['MesosTaskId', '_x', 'A1_b'])('accepts %s', (name) => expect(isAttributeName(name)).toBe(true));
  it.each(['', '1abc', 'a-b', 'a b', 'a.b', 'ä'])('refuses %j', (name) => expect(isAttributeName(name)).toBe(false));
});

describe('configClassAdString (old ClassAd escaping of configuration values; exactness is checked against HTCondor in the integration tests)', () => {
  it.each([
    ['t-123', '"t-123"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['back\\slash', '"back\\slash"'],
    ['ends with\\', '"ends with\\"'],
    ['Zürich', '"Zürich"'],
    ['$(HOME)', 'strcat("", "$", "(HOME)")'],
    ['a$$b', 'strcat("a", "$", "", "$", "b")'],
    ['x\\$y', 'strcat("x", substr("\\ ", 0, 1), "$", "y")'],
  ])('%j → %s', (value, literal) => expect(configClassAdString(value)).toBe(literal));

  it('never lets a value end the config line', () => {
    expect(configClassAdString('a\nSTART = False')).toBe('"a START = False"');
  });
});
