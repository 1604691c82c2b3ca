import { platformContract } from '@dronedelivery/testing';
import { contract } from './delivery-app';

platformContract('delivery', contract);
