export default () => process.exit(1);
