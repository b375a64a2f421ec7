// Splitting the certificate form's names field.
import { expect, it } from 'vitest';
import { splitNames } from './names';

it('splits the names field on spaces and commas', () => {
  expect(splitNames(' localhost, 127.0.0.1  ::1,,*.app.test ')).toEqual([
    'localhost',
    '127.0.0.1',
    '::1',
    '*.app.test',
  ]);
});
