package s3kit

// BudgetInUse reports the bytes of c's memory budget held by uploads in
// flight and by read-ahead, for tests of the budget.
func BudgetInUse(c *Client) (committed, speculative int64) {
	return c.pool.inUse.Load(), c.pool.speculative.Load()
}
