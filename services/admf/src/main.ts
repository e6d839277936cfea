import { x } from "@li/config"; console.log("ok", x, process.version);
