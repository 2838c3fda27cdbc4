import { executorSuite } from './executor.suite.ts';

executorSuite('ThreadPool');
