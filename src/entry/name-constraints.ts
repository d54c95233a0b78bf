/**
 * The public entry point `mailtls/name-constraints`: the names of `src/chain/name-constraints.ts` that users may
 * rely on. The module itself also exports helpers that sibling modules share (tagged internal in their
 * TSDoc); listing the public names here keeps those out of the package's subpath.
 *
 * @module name-constraints
 */
export {
  type CheckNameConstraintsOptions,
  checkNameConstraints,
  DEFAULT_MAX_NAME_COMPARISONS,
  matchNameConstraint,
  type NameConstraintsInput,
  type NameConstraintViolation,
  type NameConstraintViolationReason,
  verifyNameConstraints,
} from '../chain/name-constraints.js';
