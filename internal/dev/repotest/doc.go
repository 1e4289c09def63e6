// Package repotest holds the tests of the repository itself: what is tracked, and that the
// documents agree with the code they describe.
package repotest
