"""The job: what one clip is made of (inputs, planned steps, export settings) and its identity."""
