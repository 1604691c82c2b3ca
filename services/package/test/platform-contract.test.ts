import { platformContract } from '@dronedelivery/testing';
import { contract } from './package-app';

platformContract('package', contract);
