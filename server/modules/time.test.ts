import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tzo, utc } from './time.ts';

const offset = (minutesBehindUtc: number): Date => ({ getTimezoneOffset: () => minutesBehindUtc }) as Date;

test('tzo writes the zone offset as XEP-0082 does, sign first', () => {
  assert.equal(tzo(offset(0)), '+00:00');
  assert.equal(tzo(offset(-330)), '+05:30');
  assert.equal(tzo(offset(300)), '-05:00');
  assert.equal(tzo(offset(570)), '-09:30');
  assert.equal(tzo(offset(-765)), '+12:45');
});

test('utc is the instant in UTC to the second', () => {
  assert.equal(utc(new Date(Date.UTC(2006, 11, 19, 17, 58, 35, 789))), '2006-12-19T17:58:35Z');
});
