/**
 * etcd's error messages, each written once. etcd identifies its errors by message better than by
 * gRPC code ("election: no leader" arrives as Unknown), so `toEtcdError` maps by these strings,
 * and every other place that recognises or reproduces one of etcd's errors uses them from here.
 * The texts are etcd's own (server/etcdserver/api/v3rpc/rpctypes/error.go and the v3lock and
 * v3election servers), identical on the 3.4 and 3.5 lines; the downgrade ones come with 3.5's
 * Downgrade RPC.
 *
 * @example
 * if (error.rawMessage === EtcdMessage.compacted) relist();
 */
export const EtcdMessage = {
  compacted: "etcdserver: mvcc: required revision has been compacted",
  futureRevision: "etcdserver: mvcc: required revision is a future revision",
  leaseNotFound: "etcdserver: requested lease not found",
  keyNotProvided: "etcdserver: key is not provided",
  keyNotFound: "etcdserver: key not found",
  tooManyOps: "etcdserver: too many operations in txn request",
  duplicateKey: "etcdserver: duplicate key given in txn request",
  requestTooLarge: "etcdserver: request is too large",
  noSpace: "etcdserver: mvcc: database space exceeded",
  tooManyRequests: "etcdserver: too many requests",
  notCapable: "etcdserver: not capable",
  permissionDenied: "etcdserver: permission denied",
  invalidAuthToken: "etcdserver: invalid auth token",
  authOldRevision: "etcdserver: revision of auth store is old",
  authFailed: "etcdserver: authentication failed, invalid user ID or password",
  authNotEnabled: "etcdserver: authentication is not enabled",
  invalidAuthManagement: "etcdserver: invalid auth management",
  userEmpty: "etcdserver: user name is empty",
  userAlreadyExists: "etcdserver: user name already exists",
  roleAlreadyExists: "etcdserver: role name already exists",
  userNotFound: "etcdserver: user name not found",
  roleNotFound: "etcdserver: role name not found",
  roleNotGranted: "etcdserver: role is not granted to the user",
  permissionNotGranted: "etcdserver: permission is not granted to the role",
  rootUserNotExist: "etcdserver: root user does not exist",
  rootRoleNotExist: "etcdserver: root user does not have root role",
  userNameInvalid: "etcdserver: user name is invalid",
  roleEmpty: "etcdserver: role name is empty",
  roleNameInvalid: "etcdserver: role name is invalid",
  noLeader: "etcdserver: no leader",
  leaderChanged: "etcdserver: leader changed",
  notLeader: "etcdserver: not leader",
  timeout: "etcdserver: request timed out",
  timeoutDueToLeaderFail: "etcdserver: request timed out, possibly due to previous leader failure",
  timeoutDueToConnectionLost: "etcdserver: request timed out, possibly due to connection lost",
  timeoutWaitAppliedIndex:
    "etcdserver: request timed out, waiting for the applied index took too long",
  timeoutReadIndex: "etcdserver: request timed out, waiting for the read index response",
  contextDeadlineExceeded: "context deadline exceeded",
  unhealthyCluster: "etcdserver: unhealthy cluster",
  notEnoughStartedMembers: "etcdserver: re-configuration failed due to not enough started members",
  memberExist: "etcdserver: member ID already exist",
  memberNotFound: "etcdserver: member not found",
  peerUrlExist: "etcdserver: Peer URLs already exists",
  memberIdNotFound: "etcdserver: member ID not found",
  memberNotLearner: "etcdserver: can only promote a learner member",
  learnerNotReady: "etcdserver: can only promote a learner member which is in sync with leader",
  tooManyLearners: "etcdserver: too many learner members in cluster",
  memberLearnerNotReady: "etcdserver: learner member not ready",
  badLeaderTransferee: "etcdserver: bad leader transferee",
  downgradeVersionFormat: "etcdserver: wrong downgrade target version format",
  downgradeInvalidTarget: "etcdserver: invalid downgrade target version",
  downgradeNoClusterVersion: "etcdserver: cluster version not found during downgrade",
  downgradeInProgress: "etcdserver: cluster has a downgrade job in progress",
  downgradeNotInProgress: "etcdserver: no inflight downgrade job",
  electionNotLeader: "election: not leader",
  electionNoLeader: "election: no leader",
  electionSessionExpired: "election: session expired",
  lockSessionExpired: "lock: session expired",
} as const;

/** One of etcd's messages listed in `EtcdMessage`. */
export type EtcdMessage = (typeof EtcdMessage)[keyof typeof EtcdMessage];

/**
 * The messages that say the auth token is stale (unknown, expired, older than the auth store,
 * or missing): authenticating again may help.
 */
export const STALE_TOKEN_MESSAGES: ReadonlySet<string> = new Set<string>([
  EtcdMessage.invalidAuthToken,
  EtcdMessage.userEmpty,
  EtcdMessage.authOldRevision,
]);
