import { platformContract } from '@dronedelivery/testing';
import { contract } from './workflow-app';

platformContract('workflow', contract);
