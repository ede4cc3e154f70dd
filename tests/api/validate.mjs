// Validates an OpenAPI document: against the official schema of its version (the validator's
// own check), then that every $ref in it resolves, which the schema alone does not check.
import { Validator } from "@seriousme/openapi-schema-validator";

const file = process.argv[2];
const validator = new Validator();
const result = await validator.validate(file);
if (!result.valid) {
    console.error(`${file}: not a valid OpenAPI document`);
    console.error(JSON.stringify(result.errors, null, 2));
    process.exit(1);
}
if (validator.version !== "3.1") {
    console.error(`${file}: OpenAPI ${validator.version}, expected 3.1`);
    process.exit(1);
}
try {
    validator.resolveRefs();
} catch (error) {
    console.error(`${file}: ${error.message}`);
    process.exit(1);
}
console.log(`${file}: valid OpenAPI ${validator.specificationVersion ?? validator.version}`);
