import { BadRequestException, HttpException, InternalServerErrorException } from '@nestjs/common';
import { DownstreamUnavailableError } from '../http/resilient-http-client';
import { ConflictProblem, StoreUnavailableError, ValidationProblem } from './problem';
import { toProblem } from './to-problem';

describe('toProblem', () => {
  it('keeps a ProblemException as it is, with its headers', () => {
    const { problem, unexpected } = toProblem(new ValidationProblem([{ field: 'x', message: 'x is bad' }]), '/a');
    expect(problem).toMatchObject({
      status: 400,
      type: expect.stringMatching(/validation-error$/),
      errors: [{ field: 'x' }],
      instance: '/a',
    });
    expect(unexpected).toBe(false);
    expect(toProblem(new ConflictProblem('delivery-exists', 'Exists', 'd')).problem.type).toMatch(/delivery-exists$/);
  });

  it('turns an unreachable store or downstream into 503 with Retry-After, not a logged error', () => {
    const store = toProblem(new StoreUnavailableError('redis', new Error('ECONNREFUSED 10.0.0.1:6379')));
    expect(store.problem.status).toBe(503);
    expect(store.headers['retry-after']).toBe('1');
    expect(JSON.stringify(store.problem)).not.toContain('10.0.0.1');
    const open = toProblem(new DownstreamUnavailableError('package', 'open-circuit'));
    expect(open).toMatchObject({ problem: { status: 503 }, headers: { 'retry-after': '5' }, unexpected: false });
  });

  it('maps Fastify body errors wrapped by Nest to their stable types', () => {
    const wrapped = new HttpException('too big', 413, { cause: Object.assign(new Error('x'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE' }) });
    expect(toProblem(wrapped).problem).toMatchObject({ status: 413, type: expect.stringMatching(/payload-too-large$/) });
  });

  it('hides internals of unexpected errors and flags them for logging', () => {
    const { problem, unexpected } = toProblem(new TypeError("Cannot read properties of undefined (reading 'secret')"));
    expect(problem).toMatchObject({ status: 500, type: expect.stringMatching(/internal-error$/) });
    expect(JSON.stringify(problem)).not.toContain('secret');
    expect(unexpected).toBe(true);
    expect(toProblem(new InternalServerErrorException()).unexpected).toBe(true);
    expect(toProblem(new BadRequestException('nope')).problem).toMatchObject({ status: 400, detail: 'nope' });
  });
});
