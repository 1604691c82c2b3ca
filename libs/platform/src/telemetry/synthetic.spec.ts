import { baggageIsSynthetic, headersAreSynthetic, isSynthetic, runMarked, runSynthetic, syntheticOutgoingHeaders } from './synthetic';

describe('synthetic marking', () => {
  it('reads the mark from the header or from a W3C baggage member', () => {
    expect(headersAreSynthetic({ 'x-synthetic-request': 'true' })).toBe(true);
    expect(headersAreSynthetic({ 'x-synthetic-request': ' TRUE ' })).toBe(true);
    expect(headersAreSynthetic({ baggage: 'synthetic_request=true' })).toBe(true);
    expect(headersAreSynthetic({ baggage: ['a=1', 'b=2 , synthetic_request = true ; prop'] })).toBe(true);
    expect(baggageIsSynthetic('synthetic_request=%74rue')).toBe(true);
    for (const headers of [
      {},
      { 'x-synthetic-request': 'yes' },
      { baggage: 'synthetic_request=false' },
      { baggage: 'not_synthetic_request=true' },
      { baggage: 'synthetic_request' },
    ]) {
      expect(headersAreSynthetic(headers), JSON.stringify(headers)).toBe(false);
    }
    expect(headersAreSynthetic(undefined)).toBe(false);
  });

  it('keeps the mark across awaits inside runSynthetic only, and names the headers outgoing calls add', async () => {
    expect(isSynthetic()).toBe(false);
    expect(syntheticOutgoingHeaders()).toBeUndefined();
    const inside = await runSynthetic(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return { marked: isSynthetic(), headers: syntheticOutgoingHeaders() };
    });
    // Telemetry is off here: no OpenTelemetry context, so the client adds the baggage entry itself.
    expect(inside).toEqual({ marked: true, headers: { 'x-synthetic-request': 'true', baggage: 'synthetic_request=true' } });
    expect(isSynthetic()).toBe(false);
    expect(runMarked(false, () => isSynthetic())).toBe(false);
    expect(runMarked(true, () => isSynthetic())).toBe(true);
  });
});
