// workerpool needs a script that registers its functions: this one registers the task module the
// parent names in REAL_TASK (a worker thread or child process inherits the environment).
import workerpool from 'workerpool';

const name = process.env.REAL_TASK;
const mod = await import(`./${name}.mjs`);
workerpool.worker({ [name]: mod[name] });
