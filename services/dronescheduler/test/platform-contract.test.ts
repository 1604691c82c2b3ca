import { platformContract } from '@dronedelivery/testing';
import { contract } from './dronescheduler-app';

platformContract('dronescheduler', contract);
