// Baseline for the benchmark: the smallest Fastify server on the same Node, answering one JSON body.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/api/deliveryrequests', async (_request, reply) => reply.code(202).send({ deliveryId: 'x', status: 'Requested' }));
app.get('/health/ready', async () => ({ status: 'ok' }));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
