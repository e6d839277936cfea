// npm runs on the machine's Node; the project runs on the Node 24 pinned in devDependencies.
// Fail early and clearly if a script is not running on it.
const major = Number(process.versions.node.split('.')[0]);
if (major !== 24) {
  console.error(`expected Node 24 (the pinned "node" devDependency), got ${process.version}: run through npm scripts`);
  process.exit(1);
}
console.log(`node ${process.version} (${process.execPath})`);
