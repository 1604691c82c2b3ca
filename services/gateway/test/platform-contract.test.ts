import { platformContract } from '@dronedelivery/testing';
import { contract } from './gateway-app';

platformContract('gateway', contract);
