/** Global test setup; the database part is added with persistence (issue 4). */
export default function setup(): void {}
