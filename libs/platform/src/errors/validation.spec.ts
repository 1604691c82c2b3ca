import { controlCharacterFields } from './validation';

describe('controlCharacterFields', () => {
  it('names every string holding a C0, DEL or C1 control character, nested paths included', () => {
    const body = {
      pickupLocation: '1 Main\u0000St',
      dropOffLocation: '9 Side Rd',
      packageInfo: { tag: 'a\u009bb', size: 'Small', weight: 2 },
      notes: ['fine', 'tab\there', 'del\u007f'],
    };
    expect(controlCharacterFields(body, '')).toEqual(['pickupLocation', 'packageInfo.tag', 'notes.1', 'notes.2']);
  });

  it('accepts printable text, including non-ASCII letters and symbols', () => {
    expect(controlCharacterFields({ location: 'Straße 5 — 東京 ✓', n: 1, ok: true, none: null }, '')).toEqual([]);
  });

  it('names a bare string body', () => {
    expect(controlCharacterFields('\u001b[2J', '')).toEqual(['(body)']);
  });
});
