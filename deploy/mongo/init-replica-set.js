// deploy/compose.yaml's mongo-init job: initiate the 3-member replica set `rs0` and create the
// services' user, then exit. Rerunning it changes nothing. Passwords are read from the mounted
// secret files, never passed on a command line.
// mongosh "mongodb://mongo-1:27017/?directConnection=true" /init-replica-set.js
const fs = require("fs");
const secret = (name) => fs.readFileSync(`/run/secrets/${name}`, "utf8").trim();

const admin = db.getSiblingDB("admin");
admin.auth("root", secret("mongo_root_password"));

const members = ["mongo-1:27017", "mongo-2:27017", "mongo-3:27017"].map((host, i) => ({
  _id: i,
  host,
  priority: i === 0 ? 2 : 1,
}));
try {
  rs.status();
  print("replica set rs0 already initiated");
} catch (e) {
  if (e.codeName !== "NotYetInitialized") throw e;
  rs.initiate({ _id: "rs0", members });
  print("replica set rs0 initiated");
}

// users are written on the primary: wait until this member is it
for (let i = 0; i < 120 && !db.hello().isWritablePrimary; i++) sleep(1000);
if (!db.hello().isWritablePrimary) throw new Error("mongo-1 did not become primary in 120 s");

// the services' user: read and write on their own databases, nothing else
const roles = ["aigw_publisher", "aigw_devportal", "aigw_keymanager"].map((d) => ({
  role: "readWrite",
  db: d,
}));
if (admin.getUser("aigw") === null) {
  admin.createUser({ user: "aigw", pwd: secret("mongo_app_password"), roles });
  print("user aigw created");
} else {
  admin.updateUser("aigw", { roles });
  print("user aigw already exists (roles refreshed)");
}
