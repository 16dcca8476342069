// Package httpjson decodes JSON request bodies strictly and writes JSON
// responses, for every API family. Decoding errors come back as apperr
// errors whose messages say what is wrong and where.
package httpjson
